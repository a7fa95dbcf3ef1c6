"""The Export panel's "Download GIF" in a real browser, on the benchmark scenario.

The GIF is made in the browser from the path chart's own animation frames
(ui/assets/gif_export.js); this test reads the file back with its own small GIF
block parser and compares it with what the page shows: the chart's drawn size,
the number of animation frames and their duration, the optimizers' colours.
"""

from __future__ import annotations

import struct

from harness import LOAD_TIMEOUT_MS, open_app, wait_idle

from i18n import t

BENCH = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
BENCH_LINK = "/?landscape=rosenbrock&" + "&".join(f"optimizers={o}" for o in BENCH) + "&steps=1000"
MAX_WIDTH = 1000  # gif_export.js: a wider chart is scaled down to this width
HOLD_LAST_MS = 1500  # gif_export.js: the last frame's delay
MAX_BYTES = 5 * 1024 * 1024

# What the page shows: the front layer's size in CSS px, its frames, the 1x play speed, the trail colours.
_CHART = """() => {
  const gd = document.querySelector('.st-key-path_chart .js-plotly-plot');
  const L = gd._fullLayout;
  const play = L.updatemenus[0].buttons.find((b) => b.label.endsWith('1×'));
  const trails = gd._fullData.filter((d) => d.mode === 'lines' && (d.yaxis || 'y') === 'y' && d.showlegend);
  return {width: L.width, height: L.height, frames: gd._transitionData._frames.length,
          frame_ms: play.args[1].frame.duration, colours: trails.map((d) => d.line.color),
          trail_x: gd.data.filter((d, i) => gd._fullData[i] && gd._fullData[i].showlegend && gd._fullData[i].mode === 'lines').map((d) => d.x.length),
          slider: L.sliders[0].active};
}"""


def parse_gif(data: bytes) -> dict:
    """The GIF's header, global palette and, per image, its rectangle and its graphic control (delay in cs, transparency)."""
    assert data[:6] == b"GIF89a", data[:6]
    width, height, packed = struct.unpack_from("<HHB", data, 6)
    pos = 13
    palette = []
    if packed & 0x80:
        n = 2 ** ((packed & 7) + 1)
        palette = [tuple(data[pos + 3 * i : pos + 3 * i + 3]) for i in range(n)]
        pos += 3 * n

    def skip_sub_blocks(p: int) -> int:
        while data[p]:
            p += data[p] + 1
        return p + 1

    images, control = [], None
    while True:
        kind = data[pos]
        if kind == 0x3B:  # trailer
            break
        if kind == 0x21:  # extension: label, then data sub-blocks
            if data[pos + 1] == 0xF9:
                flags, delay, transparent = struct.unpack_from("<BHB", data, pos + 3)
                control = {"delay": delay, "transparent": transparent if flags & 1 else None, "dispose": (flags >> 2) & 7}
            pos = skip_sub_blocks(pos + 2)
        elif kind == 0x2C:  # image: descriptor, optional local palette, LZW code size, data sub-blocks
            left, top, w, h, flags = struct.unpack_from("<HHHHB", data, pos + 1)
            pos += 10
            if flags & 0x80:
                pos += 3 * 2 ** ((flags & 7) + 1)
            pos = skip_sub_blocks(pos + 1)
            images.append({"rect": (left, top, w, h), "control": control})
            control = None
        else:
            raise AssertionError(f"not a GIF block: 0x{kind:02x} at byte {pos}")
    return {"width": width, "height": height, "palette": palette, "images": images, "end": pos + 1}


def rgb(colour: str) -> tuple[int, int, int]:
    assert colour.startswith("#") and len(colour) == 7, colour
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def test_the_benchmark_race_downloads_as_a_gif(page, base_url, browser_log, tmp_path):
    open_app(page, base_url + BENCH_LINK)
    shown = page.evaluate(_CHART)
    assert shown["frames"] > 1 and len(shown["colours"]) == len(BENCH), shown

    page.get_by_role("button", name=t("pg.export", "en")).click()  # the popover runs its content once open
    button = page.get_by_role("button", name=t("pg.export_gif", "en"))
    button.wait_for(timeout=LOAD_TIMEOUT_MS)
    status = page.locator(".dl-gif [role=status]")
    with page.expect_download(timeout=LOAD_TIMEOUT_MS) as download:
        button.click()
        # Progress while it encodes, announced politely; one export at a time.
        page.wait_for_function("() => /\\d+%/.test(document.querySelector('.dl-gif [role=status]').textContent)")
        assert status.get_attribute("aria-live") == "polite"
        assert button.is_disabled()
    assert download.value.suggested_filename == "descent-lab.gif"
    target = tmp_path / "race.gif"
    download.value.save_as(target)
    data = target.read_bytes()

    gif = parse_gif(data)
    scale = min(1.0, MAX_WIDTH / shown["width"])
    assert (gif["width"], gif["height"]) == (round(shown["width"] * scale), round(shown["height"] * scale)), (gif["width"], gif["height"], shown)
    assert gif["end"] == len(data)  # nothing after the trailer
    assert len(gif["images"]) == shown["frames"]
    assert all(im["rect"] == (0, 0, gif["width"], gif["height"]) for im in gif["images"])
    delays = [im["control"]["delay"] for im in gif["images"]]
    assert delays == [round(shown["frame_ms"] / 10)] * (shown["frames"] - 1) + [HOLD_LAST_MS // 10], delays
    # Every optimizer's colour, exactly as drawn.
    for colour in shown["colours"]:
        assert rgb(colour) in gif["palette"], (colour, gif["palette"][:16])
    assert len(data) < MAX_BYTES, len(data)

    # The chart is put back as it was: same paths, the scrub slider where it stood.
    wait_idle(page)
    after = page.evaluate(_CHART)
    assert (after["trail_x"], after["slider"]) == (shown["trail_x"], shown["slider"])
    assert status.text_content() == ""
    assert button.is_enabled()
    assert browser_log.page_errors == [] and browser_log.console_errors == [], (browser_log.page_errors, browser_log.console_errors)
