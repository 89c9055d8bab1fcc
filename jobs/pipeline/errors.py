class MediaError(Exception):
    """A file that cannot be read as the photo or video it claims to be. The message is shown to
    people as the file's error, so it says what is wrong in their words."""
