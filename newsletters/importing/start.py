"""Starting an import from a file on disk, as the command line does."""

import shutil
from collections.abc import Sequence
from pathlib import Path

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from newsletters.importing import formats, reader
from newsletters.importing.run import run
from newsletters.models import Newsletter, SubscriberImport


class ImportRefused(Exception):
    """The file or the choices cannot make an import; nothing was changed."""


def start_from_path(
    path: Path, slugs: Sequence[str], basis: str, note: str = ""
) -> SubscriberImport:
    """Check the file and lists, keep a copy under MEDIA_ROOT and import it here and now."""
    if basis not in SubscriberImport.Basis.values:
        raise ImportRefused(
            _("The consent basis must be one of: %s") % ", ".join(SubscriberImport.Basis.values)
        )
    if not path.is_file():
        raise ImportRefused(_("There is no file at %s.") % path)
    newsletters = list(Newsletter.objects.filter(slug__in=slugs))
    missing = sorted(set(slugs) - {n.slug for n in newsletters})
    if missing:
        raise ImportRefused(_("There is no list called %s.") % ", ".join(missing))
    with open(path, "rb") as handle:
        try:
            layout, _first, _start = reader.read_layout(handle)
        except formats.UnknownFormat as exc:
            raise ImportRefused(str(exc)) from None
    if basis == SubscriberImport.Basis.CONFIRMED_ELSEWHERE and not layout.has_consent_columns:
        raise ImportRefused(
            _(
                "This file (%s) has no opt-in or confirmation times, so nothing in it shows "
                "that its readers confirmed. Use --consent needs-confirmation."
            )
            % layout.label
        )
    note = note.strip() or _("Imported from %(file)s from the command line.") % {"file": path.name}
    name = default_storage.get_available_name(f"imports/cli/{path.name}")
    target = Path(default_storage.path(name))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    imported = SubscriberImport.objects.create(
        file=name,
        original_name=path.name[:255],
        file_size=target.stat().st_size,
        format=layout.format,
        consent_basis=basis,
        consent_note=note[:500],
    )
    imported.newsletters.set(newsletters)
    run(imported.pk)
    imported.refresh_from_db()
    return imported
