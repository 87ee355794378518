"""Residents' refusals become the API's errors in one place (services/api/errors.py)."""

from __future__ import annotations

from services.api.errors import as_api_error
from services.residents.errors import LinkRefused, PhotoRefused, TooManyReports


def test_too_many_reports_answers_429_with_retry_after_in_the_residents_words() -> None:
    error = as_api_error(TooManyReports("提交太频繁，请一分钟后再试。", retry_after_s=42))
    assert error is not None
    assert error.status_code == 429
    assert error.headers() == {"Retry-After": "42"}
    assert error.body() == {
        "error": "too_many_reports", "retry_after_s": 42,
        "detail": "提交太频繁，请一分钟后再试。 / too many reports from this link or address; "
                  "try again in a minute"}


def test_photo_and_link_refusals_keep_their_statuses() -> None:
    too_large = as_api_error(PhotoRefused("照片太大。", too_large=True))
    not_a_photo = as_api_error(PhotoRefused("不是照片。", too_large=False))
    unknown_link = as_api_error(LinkRefused("找不到这个链接。"))
    assert [error.status_code if error else None
            for error in (too_large, not_a_photo, unknown_link)] == [413, 415, 404]
