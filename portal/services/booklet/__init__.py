"""The proceedings booklet.

``build`` (the service: preflight, build, the final rule, the newest booklet), ``progress``
(one build at a time across processes: a claim row in the database, with the build's stage),
``editions`` (print editions of a final booklet, as a service). The PDF work, which imports
pikepdf or WeasyPrint and so is imported only when a build runs: ``front`` (cover, agenda,
contents), ``merge``, ``fonts``, ``places`` (where a page number goes), ``stamp`` (the
hand-built page-number font and the stamping), ``impose`` (the print editions' pages);
``parts`` holds the plain data they share.
"""
