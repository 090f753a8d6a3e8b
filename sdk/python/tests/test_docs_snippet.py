"""The docs' Python SDK snippet, run as written against the real server.

Only the base URL is substituted (the credentials already come from the environment). The docs'
fragment uses `os.environ` without importing os, so the runner puts `import os` before it.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict

import httpx

from conftest import REPO_ROOT, SDK_DIR, Server

DOCS_BASE = "https://img-cloud.org"

# Copied verbatim from the docs' "Python SDK" section (img-cloud-docs.txt), line breaks as there.
PYTHON_SNIPPET = '''from cloudimg import Cloudimg
cli = Cloudimg(
base_url="https://img-cloud.org",
key_id=os.environ["CLOUDIMG_KEY_ID"],
key_secret=os.environ["CLOUDIMG_KEY_SECRET"],
)
asset = cli.upload("photo.jpg", folder="gallery", tags=["hero"])
print(asset["public_id"], asset["url"])
print(cli.url_for(asset["public_id"], w=400, h=400, c="fill", f="webp", q=80))
print(cli.signed_url(asset["public_id"], transform={"w": 200}, ttl_seconds=3600))
cli.update_asset(asset["public_id"], tags="archived,old")
cli.delete_asset(asset["public_id"])
'''


def docs_texts() -> Dict[str, str]:
    """Where the snippet is published: the docs page (beside the repo, when present) and our READMEs."""
    found = {"sdk/python/README.md": (SDK_DIR / "README.md").read_text()}
    for p in [os.environ.get("IMGCLOUD_DOCS", ""), str(REPO_ROOT.parent / "shared" / "spec" / "img-cloud-docs.txt")]:
        if p and Path(p).is_file():
            found[p] = Path(p).read_text()
            break
    return found


def test_snippet_is_the_published_one() -> None:
    for where, text in docs_texts().items():
        assert PYTHON_SNIPPET.strip() in text, f"the Python snippet in {where} differs from the one tested here"


def test_docs_python_snippet_runs_unchanged(server: Server, api_key: Dict[str, str], photo_jpg: Path, tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_bytes(photo_jpg.read_bytes())
    code = "import os\n" + PYTHON_SNIPPET.replace(f'"{DOCS_BASE}"', f'"{server.base}"')
    assert code.count(server.base) == 1
    (tmp_path / "snippet.py").write_text(code)
    env = dict(os.environ, CLOUDIMG_KEY_ID=api_key["key_id"], CLOUDIMG_KEY_SECRET=api_key["key_secret"])
    run = subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 3, run.stdout

    public_id, url = lines[0].split(" ")
    assert re.fullmatch(r"gallery/photo-[0-9a-f]{12}", public_id), public_id
    assert url == f"{server.base}/v1/image/{public_id}"
    assert lines[1] == f"{server.base}/v1/image/w_400,h_400,c_fill,q_80,f_webp/{public_id}"
    assert re.fullmatch(re.escape(f"{server.base}/v1/image/w_200/{public_id}") + r"\?expires=\d+&sig=[A-Za-z0-9_-]+", lines[2]), lines[2]

    # The snippet's last line deleted the asset: its delivery URL is gone.
    assert httpx.get(url).status_code == 404
