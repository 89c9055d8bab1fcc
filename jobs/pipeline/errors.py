class MediaError(Exception):
    """A file that cannot be read as the photo or video it claims to be. The message is shown to
    people as the file's error, so it says what is wrong in their words."""


# What decoders say (Pillow, libjpeg, libheif, FFmpeg), matched without case, and what it means
# for the person holding the file, with what they can do. The first match wins; the decoder's own
# words follow in parentheses for whoever reports the problem.
DECODER_WORDS = (
    (
        ("truncated", "end of file", "premature end", "unexpected end", "eof", "moov atom not found"),
        "{kind} is cut off: the file ends before its data does, as when a copy, download or "
        "recording was interrupted. Copy it again from where it came from",
    ),
    (
        ("unsupported", "not supported", "unknown codec"),
        "{kind} is in a variant of its format that we cannot decode. Convert it with the program "
        "that made it",
    ),
)
DAMAGED = "{kind} is damaged: its data is not what its format requires. Import another copy if you have one"


def in_words(kind: str, error: BaseException | str) -> str:
    """A person's sentence ("Image is cut off: …") from a decoder's bare message ("End of file")."""
    said = str(error).strip() or type(error).__name__
    lowered = said.casefold()
    sentence = next((words for clues, words in DECODER_WORDS if any(clue in lowered for clue in clues)), DAMAGED)
    return f"{sentence.format(kind=kind)} ({said})"
