"""End to end: the test study through the workflow, `snakemake --report`, and the HTML opened in headless Chromium.

Snakemake's report is a single-page app: figures appear only after clicking a category and a result's eye icon.
So besides checking that every figure is embedded in the HTML, the browser test drives Chromium through the
DevTools protocol (``--remote-debugging-pipe``: stdlib only, no websocket client, no downloaded browser), clicks
every figure, checks that the browser decoded it (``naturalWidth > 0``) and keeps a screenshot of each view.
Screenshots are kept in the pytest tmp dir and copied to ``$HPO_TEST_ARTIFACTS/report`` (default: a folder under the
system temp dir); the test prints where.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, snakemake
from PIL import Image

from hpo.report.build import NO_GALLERY, NO_LLM_FIGURE

CONFIG = str(ROOT / "config" / "test.yaml")
BUDGETS = (5, 10, 12)  # config/test.yaml's budgets plus n_trials
FIGURES = [
    "average_rank.png",
    *(f"cd_diagram_budget{b}.png" for b in BUDGETS),
    "insight.png",
]  # no llm_usage.png, no mm_gallery.png: no method of the test study calls a model (so none sends images)
PAGES = ["report_summary.html", "ranks.html", "friedman.html", "wilcoxon.html", "llm.html", "insight_summary.html"]
CATEGORIES = [
    "0. Summary",
    "1. Ranking",
    "2. Critical difference",
    "5. Tables",
    "6. Insight",
]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("HPO_TEST_ARTIFACTS", Path(tempfile.gettempdir()) / "mm-llm-hpo-test-artifacts"))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory, table_dir: Path) -> Path:
    """The test study run once, then its HTML report built."""
    workdir = tmp_path_factory.mktemp("report_study")
    snakemake(workdir, "--configfile", CONFIG)
    snakemake(workdir, "--configfile", CONFIG, "--report", str(workdir / "report.html"))
    return workdir


def non_blank_png(path: Path, min_colors: int = 8) -> Image.Image:
    """Open ``path`` as a PNG (verify + load) and check it has more than a handful of colours."""
    with Image.open(path) as img:
        img.verify()
    img = Image.open(path)
    img.load()
    assert img.format == "PNG"
    colors = img.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert len(colors) >= min_colors, f"{path}: only {len(colors)} colours, the page looks blank"
    return img


def test_workflow_outputs(study: Path):
    results = study / "results"
    for fig in FIGURES:
        non_blank_png(results / "figures" / fig)
        assert (results / "figures" / fig).with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    report = (results / "report.md").read_text()
    assert report.startswith("# Results: which optimizer wins")
    for method in ("random_search", "smac_rf", "smac_gp", "optuna_tpe"):
        assert f"| {method} |" in report
    assert all(f"**Budget {b}**" in report for b in BUDGETS)
    rows = [line for line in report.splitlines() if line.startswith("| ") and "_" in line.split("|")[1]]
    assert sum(line.count("| best |") for line in rows) == len(BUDGETS)  # one best method per budget
    # no method calls a model: no LLM figure and no gallery (placeholders), and the report says why, one sentence each
    assert not list((results / "figures").glob("mm_gallery.*")) and not list((results / "figures").glob("llm_usage.*"))
    summary = (results / "report_summary.html").read_text()
    assert all(why in report and why in summary for why in (NO_GALLERY, NO_LLM_FIGURE))
    assert "no LLM-driven trials" in (results / "stats" / "llm.md").read_text()


def test_report_embeds_every_figure(study: Path):
    html = (study / "report.html").read_text()
    for absent in ("plot_llm_usage", "llm_usage.png", "3. LLM", "plot_mm_gallery", "mm_gallery.png", "4. Multimodal"):
        assert absent not in html, f"{absent}: a figure that does not apply is in the report"
    for fig in FIGURES:
        m = re.search(rf"data:image/png;charset=utf8;filename={re.escape(fig)};base64,([A-Za-z0-9+/=]+)", html)
        assert m, f"{fig} is not embedded in report.html"
        assert base64.b64decode(m.group(1)) == (study / "results" / "figures" / fig).read_bytes()
    assert "which optimizer wins, at which budget, and is it significant?" in html  # report/workflow.rst


class Chromium:
    """Minimal DevTools-protocol client over ``--remote-debugging-pipe`` (fd 3: commands in, fd 4: replies out)."""

    def __init__(self, exe: str, user_data_dir: Path, size: tuple[int, int] = (1400, 1000)):
        cmd_r, cmd_w = os.pipe()
        res_r, res_w = os.pipe()

        def child_fds() -> None:
            a, b = os.dup(cmd_r), os.dup(res_w)  # dup first: the pipe ends may themselves be fds 3 or 4
            os.dup2(a, 3)
            os.dup2(b, 4)

        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
        flags += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
        flags += [f"--user-data-dir={user_data_dir}", f"--window-size={size[0]},{size[1]}"]
        self.proc = subprocess.Popen(
            [exe, *flags, "--remote-debugging-pipe", "about:blank"],
            pass_fds=(3, 4),
            preexec_fn=child_fds,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(cmd_r)
        os.close(res_w)
        self.out, self.inp = cmd_w, res_r
        self.buf, self.next_id, self.session = b"", 0, None

    def send(self, method: str, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if self.session:
            msg["sessionId"] = self.session
        os.write(self.out, json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self.buf:
                chunk = os.read(self.inp, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"chromium exited ({self.proc.poll()}) during {method}")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Page.navigate", url=url)

    def js(self, expression: str):
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"])
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for: {expression}")

    def frame_texts(self) -> list[str]:
        """Text of every child frame (the report shows HTML results in an iframe with a data: URL)."""
        texts = []
        for child in self.send("Page.getFrameTree")["frameTree"].get("childFrames", []):
            ctx = self.send("Page.createIsolatedWorld", frameId=child["frame"]["id"])["executionContextId"]
            expr = "document.body ? document.body.innerText : ''"
            res = self.send("Runtime.evaluate", expression=expr, contextId=ctx, returnByValue=True)
            texts.append(res["result"].get("value") or "")
        return texts

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))
        return path

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self.out)
        os.close(self.inp)


CLICK_LINK = """(() => {{
  const a = Array.from(document.querySelectorAll('a')).find(e => e.textContent.trim() === {text});
  if (!a) return false; a.click(); return true; }})()"""
EYES = "document.querySelectorAll('tr a[iconname=eye]').length"
CLICK_EYE = "(() => {{ const a = document.querySelectorAll('tr a[iconname=eye]')[{i}]; a.click(); return true; }})()"
# The result on display: an <img> the browser decoded, or an <iframe>; as "tag|filename", '' while none is ready.
SHOWN = """(() => {{
  const el = Array.from(document.querySelectorAll('img, iframe')).find(
    e => e.src.includes('filename=') && !e.src.includes('logo.svg') && e.src !== {previous});
  if (!el || (el.tagName === 'IMG' && !(el.complete && el.naturalWidth > 0))) return '';
  return el.tagName + '|' + el.src.match(/filename=([^;]+)/)[1];
}})()"""
SHOWN_SRC = """(Array.from(document.querySelectorAll('img, iframe'))
  .filter(e => e.src.includes('filename=') && !e.src.includes('logo.svg')).map(e => e.src)[0] || '')"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/setup-system.sh installs it)")
def test_report_opens_in_chromium_and_shows_every_figure(study: Path, tmp_path: Path):
    html = study / "report.html"
    browser = Chromium(CHROMIUM, tmp_path / "chromium-profile")
    shots, shown = [], []
    ready = "document.body !== null && document.body.innerText.includes('RESULTS')"
    try:
        browser.open(html.as_uri())
        browser.wait_for(f"document.readyState === 'complete' && {ready}")
        assert browser.js("document.body.innerText").count("which optimizer wins") == 1
        shots.append(browser.screenshot(tmp_path / "report_home.png"))
        for category in CATEGORIES:
            browser.send("Page.navigate", url=html.as_uri())
            browser.wait_for(ready)
            assert browser.js(CLICK_LINK.format(text=json.dumps(category))), f"no category {category!r}"
            for i in range(browser.wait_for(EYES)):
                previous = browser.js(SHOWN_SRC)
                browser.js(CLICK_EYE.format(i=i))
                tag, name = browser.wait_for(SHOWN.format(previous=json.dumps(previous))).split("|")
                if tag == "IFRAME":  # an HTML table page: wait until the browser rendered its table
                    deadline = time.monotonic() + 15
                    while not any(len(t) > 40 for t in browser.frame_texts()):
                        assert time.monotonic() < deadline, f"{name}: iframe shows no text"
                        time.sleep(0.1)
                shown.append(name)
                shots.append(browser.screenshot(tmp_path / f"report_{Path(name).stem}.png"))
    finally:
        browser.close()
    embedded = set(re.findall(r"data:(?:image/png|text/html);charset=utf8;filename=([^;]+);", html.read_text()))
    assert set(FIGURES + PAGES) <= embedded
    assert sorted(shown) == sorted(embedded)  # every embedded figure and page was displayed, each once
    for shot in shots:
        non_blank_png(shot)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    kept = ARTIFACTS / "report"
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir()
    for shot in shots:
        shutil.copy2(shot, kept / shot.name)
    print(f"report screenshots: {kept} (and {tmp_path})")


def planned_jobs(workdir: Path, cfg: dict) -> str:
    """The dry run's job list for the study ``cfg`` (no job runs, no endpoint is contacted)."""
    workdir.mkdir()
    (workdir / "study.yaml").write_text(yaml.safe_dump(cfg))
    return snakemake(workdir, "-n", "--configfile", str(workdir / "study.yaml")).stdout


def test_llm_figure_and_gallery_are_planned_only_where_they_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A classical study's DAG has no LLM usage or gallery job and report_md no such input; with a multimodal method
    (it calls a model and sends images) it has both."""
    from fake_openai import vision_endpoint

    monkeypatch.setenv("HPO_TEST_KEY", "sk-test-not-secret")
    cfg = yaml.safe_load(open(CONFIG))
    classical = planned_jobs(tmp_path / "classical", cfg)
    assert "rule report_md:" in classical and "mm_gallery" not in classical and "llm_usage" not in classical
    cfg["methods"]["mm_llm"] = {"kind": "mm_llm", "params": {"endpoint": "fake"}}
    cfg["endpoints"] = {"fake": vision_endpoint("http://127.0.0.1:9/v1")}
    images = planned_jobs(tmp_path / "images", cfg)
    assert "rule plot_mm_gallery:" in images and "rule plot_llm_usage:" in images
    report_md = images[images.index("rule report_md:") :].split("\n\n", 1)[0]
    assert "results/figures/mm_gallery.png" in report_md and "results/figures/llm_usage.png" in report_md
    # calls without prices cost nothing: no regret-against-dollars figure; with prices there is one, in the report
    assert "regret_vs_llm_cost" not in classical and "regret_vs_llm_cost" not in images
    cfg["endpoints"]["fake"]["price_prompt_per_1k"] = 0.00015
    priced = planned_jobs(tmp_path / "priced", cfg)
    assert "rule plot_regret_vs_llm_cost:" in priced
    report_md = priced[priced.index("rule report_md:") :].split("\n\n", 1)[0]
    assert "results/figures/regret_vs_llm_cost.png" in report_md
