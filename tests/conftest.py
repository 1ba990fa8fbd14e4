import pytest
from django.contrib.auth import get_user_model

from monographs.demo import load_lenalidomide


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("chief", "chief@example.org", "pw-chief-123")


@pytest.fixture
def lenalidomide(db):
    """The seed monograph with three products of six strengths each, as in the demo."""
    return load_lenalidomide()
