"""One document pipeline: an upload is sniffed (``sniff``), checked (``pdf``, ``docx``, through
``check.inspect``) and normalised into the PDF the booklet prints (``convert``, with ``office``
for LibreOffice, ``fonts`` for Ghostscript and ``sanitise``), all inside a bounded child process
(``worker``) that the web process drives (``checker.run_checked``). Results are typed
(``results``); notes are codes translated when shown (``notes``).

Nothing is imported here: the worker child starts with this package and must stay light.
"""
