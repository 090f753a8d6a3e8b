"""test.sh requires `mypy --strict` to REJECT this file: url_for's keys and crop modes are typed."""
from cloudimg import Cloudimg

cli = Cloudimg(base_url="https://img-cloud.org")
cli.url_for("x", c="stretch")
cli.url_for("x", width=400)
