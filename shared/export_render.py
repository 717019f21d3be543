"""What an export's worker process does to a chunk (shared/exports.py): its sealed numbers
opened, masked for a reader who may not see them in full, and made into the sheet's cells.
Opening is the dearest part of a row (AES-GCM, about 2 us a number, which does not run
without the GIL), so it runs beside the service, not in it; only the numbers travel (the
rows' other cells, made by the database, are most of a chunk's bytes and stay in the
service). This module imports little, so that the worker starts quickly."""

from dataclasses import dataclass
from typing import Literal

from shared.masks import mask_id_number, mask_mobile
from shared.personal_data import keyring
from shared.xlsx import column_cells

MASKS = {"id_number": mask_id_number, "mobile": mask_mobile}


@dataclass(frozen=True)
class Sealed:
    """A column of sealed numbers: the label they were sealed with, and the mask they are
    shown with (None: in full)."""

    label: str
    mask: Literal["id_number", "mobile"] | None = None


def open_columns(columns: dict[int, list], sealed: dict[int, Sealed]) -> dict[int, list]:
    """The sealed columns of a chunk (by position), opened and masked as `sealed` says, as
    the sheet's text cells (UTF-8 XML): made here too, off the service's process."""
    ring = keyring()
    opened = {}
    for index, values in columns.items():
        how = sealed[index]
        plain = ring.open_all(values, how.label)
        if how.mask is not None:
            plain = [MASKS[how.mask](v) for v in plain]
        opened[index] = column_cells("label", plain)
    return opened
