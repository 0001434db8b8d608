# doc/: man pages and design notes.
dist_man_MANS += doc/nvo-controller.8
