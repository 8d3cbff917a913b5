"""PostgreSQL index kinds that degrade to plain indexes on SQLite, the development database."""

from typing import Any

from django.contrib.postgres.indexes import BrinIndex, OpClass
from django.db.models import Index, UniqueConstraint


class PortableUniqueConstraint(UniqueConstraint):
    """A unique constraint whose operator classes (OpClass) apply on PostgreSQL only.

    text_pattern_ops lets one b-tree serve equality and LIKE 'prefix%' under any collation;
    SQLite has no operator classes and gets the bare expressions.
    """

    def _portable(self, schema_editor: Any) -> UniqueConstraint:
        if schema_editor.connection.vendor == "postgresql":
            return self
        bare = [
            e.get_source_expressions()[0] if isinstance(e, OpClass) else e for e in self.expressions
        ]
        return UniqueConstraint(*bare, name=self.name)

    def constraint_sql(self, model: Any, schema_editor: Any) -> Any:
        portable = self._portable(schema_editor)
        if portable is self:
            return super().constraint_sql(model, schema_editor)
        return portable.constraint_sql(model, schema_editor)

    def create_sql(self, model: Any, schema_editor: Any) -> Any:
        portable = self._portable(schema_editor)
        if portable is self:
            return super().create_sql(model, schema_editor)
        return portable.create_sql(model, schema_editor)


class PortableBrinIndex(BrinIndex):
    """A BRIN index on PostgreSQL (tiny, nearly free to keep up on append-only columns).

    Other databases get an ordinary index.
    """

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return Index.create_sql(self, model, schema_editor, using=using, **kwargs)
        return super().create_sql(model, schema_editor, using=using, **kwargs)
