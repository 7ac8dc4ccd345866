"""Forms of stage 3. They validate and convert; the services decide and write."""

import json
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from collab.formfields import BoundedDateField, ChoiceById, ChoicesById, IdField
from collab.lib.numbers import parse_whole_number
from collab.org.models import Department, display_name
from collab.org.pickers import PeoplePicker
from collab.prepared_rows import rows_for_keys
from requests_app.forms import PersonChoiceField, people
from requests_app.models import CollaborationItem, Todo
from requests_app.rules import vague_wording_errors
from tasks_app.models import Task
from tasks_app.rules import TaskData, task_problems
from tasks_app.selectors import item_department_rows, item_departments


def _posted_people(ids: list[int]) -> QuerySet[Any]:
    """The people of ``ids`` who may be chosen (``people()``), with their persons and regions."""
    return people().select_related("person__region").filter(pk__in=ids).order_by()


class PeopleChoiceField(ChoicesById):
    widget = PeoplePicker
    # The posted people, read by the form at once (``TaskForm.people``): ids -> users.
    found: dict[int, Any] = {}

    def label_from_instance(self, obj: Any) -> str:
        department = getattr(getattr(obj, "person", None), "department", None)
        return f"{display_name(obj)} ({department})" if department else display_name(obj)

    def clean(self, value: Any) -> Any:
        if not value and not self.required:
            return []  # nobody: no empty queryset to build and run
        return super().clean(value)

    def _check_values(self, value: Any) -> Any:
        ids = [parse_whole_number(str(one)) for one in value]
        if ids and all(pk in self.found for pk in ids):
            return [self.found[pk] for pk in dict.fromkeys(ids) if pk is not None]
        return super()._check_values(value)


class TaskDepartmentField(ChoiceById):
    """The department, found among the item's that the form read (``item_department_rows``)."""

    found: dict[int, Any] = {}

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and (pk := parse_whole_number(str(value))) in self.found:
            return self.found[pk]
        return super().to_python(value)


class TaskPersonField(PersonChoiceField):
    """The owner or the receiver, found among the people the form read at once when posted."""

    found: dict[int, Any] = {}

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and (pk := parse_whole_number(str(value))) in self.found:
            return self.found[pk]
        return super().to_python(value)


class TaskForm(forms.Form):
    name = forms.CharField(
        label=_("Task"),
        max_length=200,
        help_text=_('A concrete piece of work, e.g. "test case design".'),
    )
    department = TaskDepartmentField(
        label=_("Department"), queryset=Department.objects.none(), empty_label=_("Choose a department")
    )
    owner = TaskPersonField(
        label=_("Owner"),
        queryset=people(),
        empty_label=_("Choose a person"),
        help_text=_("Exactly one person answers for the task."),
    )
    collaborators = PeopleChoiceField(
        label=_("Collaborators"),
        queryset=people(),
        required=False,
        help_text=_("The people who help the owner; type a name or its pinyin initials to add each."),
    )
    delivery_standard = forms.CharField(
        label=_("Delivery standard"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('What the result is checked against, e.g. "case coverage ≥ 95%".'),
    )
    deadline = BoundedDateField(
        label=_("Deadline"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date such as 2026-10-05: deadlines are dates, not words.")},
    )
    receiver = TaskPersonField(
        label=_("Receiver"),
        queryset=people(),
        empty_label=_("Choose a person"),
        help_text=_("Who reviews and accepts the deliverable: the requester or the next stage's owner."),
    )

    def __init__(self, *args: Any, item: CollaborationItem, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.item = item
        cast(forms.ModelChoiceField, self.fields["department"]).queryset = item_departments(item)
        self.people = self._people_posted() if self.is_bound else {}
        if self.is_bound:
            cast(Any, self.fields["department"]).found = {d.pk: d for d in item_department_rows(item)}
        # While the person types, HTMX asks the server for the same checks as on saving.
        for name in ("deadline", "delivery_standard"):
            self.fields[name].widget.attrs.update(
                {
                    "hx-post": reverse("tasks_app:check_task_field"),
                    "hx-trigger": "input changed delay:500ms, blur" if name != "deadline" else "change",
                    "hx-target": f"#check-{name}",
                    "hx-vals": json.dumps({"field": name}),
                }
            )

    def _people_posted(self) -> dict[int, Any]:
        """The posted owner, receiver and collaborators who may be chosen (``people()``), with
        their persons and regions, in one query; each field takes its own from them (an id not
        among them goes the usual way, to its error). The service and the owner's calendar use
        them too."""
        names = ("owner", "receiver", "collaborators")
        posted: list[Any] = []
        for name in names:
            value = self.fields[name].widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            posted += value if isinstance(value, list | tuple) else [value]
        ids = {pk for value in posted if (pk := parse_whole_number(str(value))) is not None}
        if not ids:
            return {}
        found = {user.pk: user for user in rows_for_keys(_posted_people, sorted(ids))}
        for name in names:
            cast(Any, self.fields[name]).found = found
        return found

    @classmethod
    def for_todo(cls, *, item: CollaborationItem, todo: Todo) -> "TaskForm":
        """A new task prefilled from a to-do of the minutes."""
        initial: dict[str, Any] = {
            "name": todo.text,
            "owner": todo.owner_id,
            "deadline": todo.due_date,
            "receiver": item.requester_id if item.requester_id != todo.owner_id else None,
        }
        department = getattr(getattr(todo.owner, "person", None), "department_id", None)
        if department in {d.pk for d in item_departments(item)}:
            initial["department"] = department
        return cls(item=item, initial=initial)

    @classmethod
    def for_task(cls, *, item: CollaborationItem, task: Task) -> "TaskForm":
        return cls(
            item=item,
            initial={
                "name": task.name,
                "department": task.department_id,
                "owner": task.owner_id,
                "collaborators": [u.pk for u in task.collaborators.all()],
                "delivery_standard": task.delivery_standard,
                "deadline": task.deadline,
                "receiver": task.receiver_id,
            },
        )

    def clean_delivery_standard(self) -> str:
        standard: str = self.cleaned_data["delivery_standard"]
        if errors := vague_wording_errors(standard):
            raise forms.ValidationError(errors)
        return standard

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            self.apply_rules(task_problems(self.data_for_service()))
        return cleaned

    def apply_rules(self, problems: dict[str, list[str]]) -> bool:
        """Shows a service's or the rules' problems next to the fields they concern."""
        for name, messages in problems.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        return not problems

    def data_for_service(self) -> TaskData:
        cleaned = self.cleaned_data
        return TaskData(
            name=cleaned["name"],
            owner_id=cleaned["owner"].pk,
            delivery_standard=cleaned["delivery_standard"],
            deadline=cleaned["deadline"],
            receiver_id=cleaned["receiver"].pk,
            department_id=cleaned["department"].pk,
            collaborator_ids=[u.pk for u in cleaned["collaborators"]],
        )


class DropTodoForm(forms.Form):
    reason = forms.CharField(
        label=_("Why no task"),
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. settled in the meeting itself")}),
    )


class ExemptionForm(forms.Form):
    department = IdField()
    reason = forms.CharField(
        label=_("Why no task"),
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. only informed, delivers nothing")}),
    )
