"""Errors of the residents' side; each carries a message a resident can read (zh-CN)."""

from __future__ import annotations


class ResidentError(Exception):
    """Root: `message` is shown to the resident as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LinkRefused(ResidentError):
    """A QR link that is forged, revoked, unknown or of another estate: all look alike."""

    def __init__(self, reason: str) -> None:
        super().__init__("这个二维码无效或已停用，请扫描现场张贴的最新二维码，或拨打物业电话。")
        self.reason = reason  # for logs and tests, never shown


class ProgressNotFound(ResidentError):
    def __init__(self) -> None:
        super().__init__("找不到这个报修进度链接，请检查链接是否完整。")


class PhotoRefused(ResidentError):
    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


class RatingRefused(ResidentError):
    pass


class TooManyReports(ResidentError):
    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
