"""Device profiles: each device type declared as data (fields, units, synonyms, storage)."""

from device_profiles.loader import (
    BUILTIN_DIR,
    ProfileError,
    ProfileSet,
    load_profile,
    load_profiles,
)
from device_profiles.schema import DeviceProfile, FieldSpec, FieldType, LocalizedName

__all__ = [
    "BUILTIN_DIR",
    "DeviceProfile",
    "FieldSpec",
    "FieldType",
    "LocalizedName",
    "ProfileError",
    "ProfileSet",
    "load_profile",
    "load_profiles",
]
