"""The managed genre list, people, and their credits on titles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelstack.catalog import audit
from reelstack.catalog.admin_schemas import (
    CreditAdminOut,
    CreditIn,
    CreditUpdate,
    GenreAdminOut,
    GenreIn,
    GenreUpdate,
    PersonIn,
    PersonOut,
    PersonPage,
    PersonUpdate,
)
from reelstack.catalog.audit import ChangedBy
from reelstack.catalog.errors import duplicate, invalid
from reelstack.catalog.localization import normalize
from reelstack.catalog.metadata import get_row
from reelstack.catalog.models import Credit, CreditRole, Genre, Person
from reelstack.errors import BadRequest, NotFound

# --- genres -----------------------------------------------------------------------------


def _genre_out(row: Genre) -> GenreAdminOut:
    return GenreAdminOut(id=row.id, slug=row.slug, name=row.name, translations=row.translations)


def _genre_snapshot(row: Genre) -> dict[str, Any]:
    return {"slug": row.slug, "name": row.name, "translations": row.translations}


def _genre_translations(texts: dict[str, str]) -> dict[str, str]:
    out = {}
    for tag, name in texts.items():
        language = normalize(tag)
        if language is None:
            raise invalid(f"translations.{tag}", "not a language tag")
        out[language] = name
    return out


def _check_genre_slug(session: Session, slug: str, genre_id: str | None) -> None:
    other = session.scalar(select(Genre.id).where(Genre.slug == slug))
    if other is not None and other != genre_id:
        raise duplicate("slug", f"genre {slug!r} exists")


def create_genre(*, session: Session, body: GenreIn, by: ChangedBy) -> GenreAdminOut:
    _check_genre_slug(session, body.slug, None)
    row = Genre(slug=body.slug, name=body.name, translations=_genre_translations(body.translations))
    session.add(row)
    session.flush()
    audit.record(
        session,
        by=by,
        action="create",
        entity_type="genre",
        entity_id=row.id,
        title_id=None,
        before=None,
        after=_genre_snapshot(row),
    )
    return _genre_out(row)


def _get_genre(session: Session, genre_id: str) -> Genre:
    row = session.get(Genre, genre_id)
    if row is None:
        raise NotFound(f"genre {genre_id} does not exist")
    return row


def update_genre(
    *, session: Session, genre_id: str, body: GenreUpdate, by: ChangedBy
) -> GenreAdminOut:
    row = _get_genre(session, genre_id)
    before = _genre_snapshot(row)
    if body.slug is not None:
        _check_genre_slug(session, body.slug, row.id)
        row.slug = body.slug
    if body.name is not None:
        row.name = body.name
    if body.translations is not None:
        row.translations = _genre_translations(body.translations)
    session.flush()
    old, new = audit.diff(before, _genre_snapshot(row))
    if new:
        audit.record(
            session,
            by=by,
            action="update",
            entity_type="genre",
            entity_id=row.id,
            title_id=None,
            before=old,
            after=new,
        )
    return _genre_out(row)


def delete_genre(*, session: Session, genre_id: str, by: ChangedBy) -> None:
    """Delete a genre (titles lose it: their genre links go with it)."""
    row = _get_genre(session, genre_id)
    audit.record(
        session,
        by=by,
        action="delete",
        entity_type="genre",
        entity_id=row.id,
        title_id=None,
        before=_genre_snapshot(row),
        after=None,
    )
    session.delete(row)
    session.flush()


def genres(*, session: Session) -> list[GenreAdminOut]:
    return [_genre_out(r) for r in session.scalars(select(Genre).order_by(Genre.slug))]


# --- people -----------------------------------------------------------------------------


def _person_out(row: Person) -> PersonOut:
    return PersonOut(
        id=row.id,
        name=row.name,
        sort_name=row.sort_name,
        external_ids=row.external_ids,
        created_at=row.created_at,
    )


def _person_snapshot(row: Person) -> dict[str, Any]:
    return {"name": row.name, "sort_name": row.sort_name, "external_ids": row.external_ids}


def create_person(*, session: Session, body: PersonIn, by: ChangedBy) -> PersonOut:
    row = Person(
        name=body.name,
        sort_name=body.sort_name,
        external_ids={str(k): v for k, v in body.external_ids.items()},
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        by=by,
        action="create",
        entity_type="person",
        entity_id=row.id,
        title_id=None,
        before=None,
        after=_person_snapshot(row),
    )
    return _person_out(row)


def _get_person(session: Session, person_id: str) -> Person:
    row = session.get(Person, person_id)
    if row is None:
        raise NotFound(f"person {person_id} does not exist")
    return row


def get_person(*, session: Session, person_id: str) -> PersonOut:
    return _person_out(_get_person(session, person_id))


def update_person(
    *, session: Session, person_id: str, body: PersonUpdate, by: ChangedBy
) -> PersonOut:
    row = _get_person(session, person_id)
    before = _person_snapshot(row)
    if body.name is not None:
        row.name = body.name
    if "sort_name" in body.model_fields_set:
        row.sort_name = body.sort_name
    if body.external_ids is not None:
        row.external_ids = {str(k): v for k, v in body.external_ids.items()}
    session.flush()
    old, new = audit.diff(before, _person_snapshot(row))
    if new:
        audit.record(
            session,
            by=by,
            action="update",
            entity_type="person",
            entity_id=row.id,
            title_id=None,
            before=old,
            after=new,
        )
    return _person_out(row)


def delete_person(*, session: Session, person_id: str, by: ChangedBy) -> None:
    """Delete a person and their credits."""
    row = _get_person(session, person_id)
    audit.record(
        session,
        by=by,
        action="delete",
        entity_type="person",
        entity_id=row.id,
        title_id=None,
        before=_person_snapshot(row),
        after=None,
    )
    session.delete(row)
    session.flush()


def people(
    *, session: Session, q: str | None = None, cursor: str | None = None, limit: int = 50
) -> PersonPage:
    """People by name (keyset on name and id); ``q`` matches within names."""
    stmt = select(Person)
    if q:
        stmt = stmt.where(Person.name.icontains(q, autoescape=True))
    if cursor:
        name, sep, person_id = cursor.rpartition("|")
        if not sep:
            raise BadRequest("cursor is not one this API returned", field="cursor")
        stmt = stmt.where((Person.name > name) | ((Person.name == name) & (Person.id > person_id)))
    rows = list(session.scalars(stmt.order_by(Person.name, Person.id).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = f"{rows[-1].name}|{rows[-1].id}"
    return PersonPage(items=[_person_out(r) for r in rows], next_cursor=next_cursor)


# --- credits ----------------------------------------------------------------------------


def _credit_snapshot(row: Credit) -> dict[str, Any]:
    return {
        "person_id": row.person_id,
        "role": row.role.value,
        "character": row.character,
        "position": row.position,
    }


def _credit_out(row: Credit, name: str) -> CreditAdminOut:
    return CreditAdminOut(
        id=row.id,
        title_id=row.title_id,
        person_id=row.person_id,
        name=name,
        role=row.role,
        character=row.character,
        position=row.position,
    )


def add_credit(*, session: Session, title_id: str, body: CreditIn, by: ChangedBy) -> CreditAdminOut:
    """Credit a person on a title (422 naming ``person_id`` for an unknown person and
    ``character`` for a character given to crew)."""
    get_row(session, title_id)
    person = session.get(Person, body.person_id)
    if person is None:
        raise invalid("person_id", f"person {body.person_id} does not exist")
    if body.character is not None and body.role is not CreditRole.CAST:
        raise invalid("character", "only cast credits name a character")
    position = body.position
    if position is None:
        top = session.scalar(select(func.max(Credit.position)).where(Credit.title_id == title_id))
        position = 0 if top is None else top + 1
    row = Credit(
        title_id=title_id,
        person_id=person.id,
        role=body.role,
        character=body.character,
        position=position,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        by=by,
        action="create",
        entity_type="credit",
        entity_id=row.id,
        title_id=title_id,
        before=None,
        after=_credit_snapshot(row),
    )
    return _credit_out(row, person.name)


def _get_credit(session: Session, credit_id: str) -> Credit:
    row = session.get(Credit, credit_id)
    if row is None:
        raise NotFound(f"credit {credit_id} does not exist")
    return row


def update_credit(
    *, session: Session, credit_id: str, body: CreditUpdate, by: ChangedBy
) -> CreditAdminOut:
    row = _get_credit(session, credit_id)
    before = _credit_snapshot(row)
    sent = body.model_fields_set
    role = body.role or row.role
    character = body.character if "character" in sent else row.character
    if character is not None and role is not CreditRole.CAST:
        raise invalid("character", "only cast credits name a character")
    row.role, row.character = role, character
    if body.position is not None:
        row.position = body.position
    session.flush()
    old, new = audit.diff(before, _credit_snapshot(row))
    if new:
        audit.record(
            session,
            by=by,
            action="update",
            entity_type="credit",
            entity_id=row.id,
            title_id=row.title_id,
            before=old,
            after=new,
        )
    return _credit_out(row, _get_person(session, row.person_id).name)


def delete_credit(*, session: Session, credit_id: str, by: ChangedBy) -> None:
    row = _get_credit(session, credit_id)
    audit.record(
        session,
        by=by,
        action="delete",
        entity_type="credit",
        entity_id=row.id,
        title_id=row.title_id,
        before=_credit_snapshot(row),
        after=None,
    )
    session.delete(row)
    session.flush()


def credits(*, session: Session, title_id: str) -> list[CreditAdminOut]:
    get_row(session, title_id)
    rows = session.execute(
        select(Credit, Person.name)
        .join(Person, Person.id == Credit.person_id)
        .where(Credit.title_id == title_id)
        .order_by(Credit.position, Credit.id)
    ).all()
    return [_credit_out(c, name) for c, name in rows]
