"""`copy`: scp-style transfers over SFTP, one host's share at a time on the fan-out."""
