"""The one error of backups and restores: its message (Japanese, for the operator) names the
file and why."""

import errno

_WHY = {
    errno.ENOSPC: "ディスクの空きがありません",
    errno.EDQUOT: "ディスクの割り当てを超えました",
    errno.EACCES: "権限がありません",
    errno.EPERM: "権限がありません",
    errno.ENOENT: "ありません",
    errno.EROFS: "読み取り専用です",
    errno.EFBIG: "ファイルが大きすぎます",
    errno.EIO: "入出力エラー",
}


class BackupError(Exception):
    """A backup, check or restore step that failed."""


def from_os_error(error: OSError, what: str) -> BackupError:
    """``what`` failed (e.g. 「database.pgdump を作れません」), with the file the error names
    (a write to a full disk names none) and why."""
    why = _WHY.get(error.errno or 0, error.strerror or str(error))
    where = f"{error.filename}: " if error.filename else ""
    return BackupError(f"{what}（{where}{why}）")
