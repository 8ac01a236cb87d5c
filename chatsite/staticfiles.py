"""Static files in production: WhiteNoise's compressed storage with hashed names.

The pages' scripts are native ES modules (static/chat/lib/, docs/client.md) that import
each other by relative path. Django rewrites those imports to the hashed names as it
does CSS ``url()``s, so a page and every module it imports come from the same release,
each cached for good. It needs ``;`` after each import and no import cycles
(tests/ops/test_static_files.py).
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
