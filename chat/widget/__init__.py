"""The widget: Sohbet on another site with one script tag (docs/widget.md).

``/widget.js`` (the loader, run by the host page) shows a launcher and frames
``/widget/frame/``, the visitor's conversation served from Sohbet's own origin, on
the sites allowed (``sites``). The frame keeps no cookie: its identity is a visitor
token (``realtime.tokens``) that the loader keeps in the host page's storage.
"""
