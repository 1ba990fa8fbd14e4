"""Lay out one part of the booklet with WeasyPrint: the work a booklet worker process does.

No Django here: a worker is started fresh (multiprocessing "spawn") and gets finished HTML
and CSS text from `monographs.booklet`, so it needs neither settings nor a database.
"""


def exit_with_parent(parent_pid):
    """Worker initializer: end this worker when the process that started it is gone.

    A pool's idle workers wait on a queue whose write end they hold themselves, so they
    would outlive a parent killed mid-booklet (say, a web worker past its timeout).
    """
    import os
    import signal
    import threading
    import time

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _fetcher():
    import weasyprint

    # A booklet loads nothing from outside: the stylesheet comes as text, fonts come from
    # fontconfig, and section bodies cannot hold images or links. Refuse every URL anyway.
    return weasyprint.urls.URLFetcher(allowed_protocols=())


def render_part(html, css_texts, path):
    """Write `html` styled by `css_texts` as a PDF at `path`.

    Returns (number of pages, {anchor id: index of the page it is on, from 0}).
    """
    import weasyprint

    fetcher = _fetcher()
    stylesheets = [weasyprint.CSS(string=css, url_fetcher=fetcher) for css in css_texts]
    document = weasyprint.HTML(string=html, url_fetcher=fetcher).render(stylesheets=stylesheets)
    anchors = {}
    for index, page in enumerate(document.pages):
        for anchor in page.anchors:
            anchors.setdefault(anchor, index)
    document.write_pdf(path)
    return len(document.pages), anchors
