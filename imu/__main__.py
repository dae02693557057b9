"""``python -m imu`` runs the command-line interface."""

from imu.cli import main_entry

main_entry()
