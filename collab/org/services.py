from typing import Any

from django.db import transaction

from collab.audit.services import audit_record
from collab.org.models import Person


@transaction.atomic
def person_set_language(*, actor: Any, language: str) -> None:
    """Remembers the interface language a person chose, for pages and for notifications."""
    person = Person.objects.select_for_update().filter(user=actor).first()
    if person is None or person.language == language:
        return
    old = person.language
    Person.objects.filter(pk=person.pk).update(language=language)
    audit_record(
        actor=actor, action="person.language_changed", target=person, changes={"language": [old, language]}
    )
