"""Actions that change state. Views, the admin, management commands and tasks all call these, so
every entry point obeys the same rules."""
