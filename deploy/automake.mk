# deploy/: the lab (README's main job), systemd units, sample configs.
