"""Administration for admins: staff, duty rota, alert routes, resident contacts, estate
deadline policies and rule overrides, all under /api/v1/admin.

Who may: services.auth.policy.require_admin, applied once to this router (deps.admin_staff),
so no handler below can forget it.
"""

from fastapi import APIRouter, Depends

from services.api.deps import admin_staff
from services.api.models import error_responses
from services.api.routes.admin import alerting, estates, staff

router = APIRouter(prefix="/api/v1/admin", dependencies=[Depends(admin_staff)],
                   responses=error_responses(
                       e403="only admins administer", e404="no such staff, estate, unit, "
                       "shift, route, contact or rule", e409="it already exists, or it would "
                       "leave no active admin"))
for _part in (staff.router, alerting.router, estates.router):
    router.include_router(_part)

__all__ = ["router"]
