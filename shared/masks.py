"""How personal numbers are shown to those who need not see them in full. Pure: no I/O.

An ID number keeps its first six characters (the region of issue) and its last four:
440301********123X. A mobile keeps its network prefix and its last four: 138****5678.
These are the masks of GB/T 35273 practice and of the national 职称 query service; what is
hidden is the birth date and the sequence, which, with the name, identify the person.
"""


def mask_id_number(id_number: str | None) -> str | None:
    if not id_number:
        return id_number
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_mobile(mobile: str | None) -> str | None:
    if not mobile:
        return mobile
    if len(mobile) <= 7:
        return "*" * len(mobile)
    return mobile[:3] + "*" * (len(mobile) - 7) + mobile[-4:]
