"""Static files storage: WhiteNoise's compressed, fingerprinted files."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Fingerprinted names once `collectstatic` has run; plain names before it.

    Tests and a bare `manage.py runserver` render pages without a collected manifest; refusing
    them (Django's default) would only force a collectstatic on every developer and test run.
    A file that is missing altogether still gets its plain URL and a 404, not a 500 for the page.
    """

    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            return name
