"""Reading input files with their locations: YAML with marks (:mod:`.marks`), pydantic errors
mapped to ``FILE:LINE:COL`` (:mod:`.modelerrors`), models loaded from files (:mod:`.files`) and
Chaos Toolkit experiments checked (:mod:`.experiments`). What the loader and every other file
reader (project settings, responder scripts) share."""
