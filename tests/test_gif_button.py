"""The Export panel's "Download GIF" button, server side: what it sends, in both languages, and what it loads.

The browser side (the GIF made from the chart's frames and checked block by block)
is tests/e2e/test_gif_export.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from i18n import t
from ui import live_chart

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
ASSETS = ROOT / "ui" / "assets"


def gif_buttons(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.json) for c in at.get("bidi_component") if c.proto.component_name == "descent_lab.gif_button"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_gif_button_opens_with_the_export_popover_in_the_page_s_language(lang):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    assert not gif_buttons(at)  # closed: nothing sent on a move
    at.session_state["export"] = True  # what opening the popover sets
    sent = gif_buttons(at.run())
    assert not at.exception
    assert sent == [
        {
            "chart": "path_chart",
            "name": "descent-lab.gif",
            "module_url": "/component/ui.live_chart.assets/gif_export.js",
            "label": t("pg.export_gif", lang),
            "progress": t("pg.export_gif_progress", lang),
            "error": t("pg.export_gif_error", lang),
        }
    ]
    assert "{percent}" in sent[0]["progress"]
    assert t("pg.export_gif", "en") != t("pg.export_gif", "zh")


def test_the_served_folder_holds_the_gif_code_and_its_vendored_encoder_with_its_licence():
    served = live_chart.serve_assets()  # outside a script run: declared, not registered
    assert Path(served.abspath) == ASSETS
    assert live_chart.gif_module_url() == f"/component/{served.name}/{live_chart.GIF_MODULE}"
    code = (ASSETS / live_chart.GIF_MODULE).read_text(encoding="utf-8")
    # Every module it imports resolves, relative to it, to a file in the served folder.
    imports = re.findall(r"^import .* from '(\.[^']+)';", code, flags=re.MULTILINE)
    assert imports == ["./vendor/gifenc/gifenc.esm.js"]
    encoder = (ASSETS / imports[0]).resolve()
    assert encoder.is_file() and ASSETS in encoder.parents
    assert "export{" in encoder.read_text(encoding="utf-8").replace(" ", "")
    licence = (encoder.parent / "LICENSE.md").read_text(encoding="utf-8")
    assert "MIT" in licence and "Matt DesLauriers" in licence
    assert "1.0.3" in (encoder.parent / "README.md").read_text(encoding="utf-8")
