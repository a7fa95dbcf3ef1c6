"""Descent Lab: the entry file. The router lives in ui/router.py."""

from ui import router

router.main()
