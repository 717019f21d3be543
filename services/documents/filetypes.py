"""What an upload really is, told by its first bytes rather than by its name."""

MAX_UPLOAD_BYTES = 10 * 1024 * 1024

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


class UploadRefused(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def sniff(content: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """The content type of an acceptable scan; UploadRefused with the reason otherwise."""
    if not content:
        raise UploadRefused("文件是空的，请重新选择")
    if len(content) > max_bytes:
        limit = max_bytes // (1024 * 1024)
        raise UploadRefused(
            f"文件过大（{len(content) / 1048576:.1f} MB），单个文件不能超过 {limit} MB"
        )
    for signature, content_type in SIGNATURES:
        if content.startswith(signature):
            return content_type
    raise UploadRefused("仅支持 PDF、JPG、PNG 格式的扫描件（按文件内容判断，而非扩展名）")
