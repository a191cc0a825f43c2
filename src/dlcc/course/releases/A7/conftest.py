"""Lets plain `pytest` run the public tests here (same as `dlcc course test`)."""

pytest_plugins = ["dlcc.course.plugin"]
