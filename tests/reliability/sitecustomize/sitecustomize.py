# Private to the azure_apim.identity test suite.
"""Loaded by every Python process the reliability suite starts (this directory is put first on PYTHONPATH).

When `AZURE_APIM_TEST_SDK_LOG` names a file, the Azure SDK, MSAL and urllib3 loggers are set to DEBUG and written
both to that file and to stderr, so the secrets oracle can search everything the SDK would log for a user who turns
debug logging on. Nothing happens without the variable.
"""

import logging
import os

_PATH = os.environ.get("AZURE_APIM_TEST_SDK_LOG")
if _PATH:
    _FORMAT = logging.Formatter("%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    _HANDLERS = [logging.FileHandler(_PATH, encoding="utf-8"), logging.StreamHandler()]
    for _handler in _HANDLERS:
        _handler.setFormatter(_FORMAT)
        _handler.setLevel(logging.DEBUG)
    for _name in ("azure", "msal", "urllib3"):
        _logger = logging.getLogger(_name)
        _logger.setLevel(logging.DEBUG)
        for _handler in _HANDLERS:
            _logger.addHandler(_handler)
