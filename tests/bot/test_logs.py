import logging

from bot.logs import OneLineFormatter, RedactSecrets


def make_record(msg: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("bot.test", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_a_traceback_stays_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = make_record("failed %s", "here", exc_info=sys.exc_info())
    line = OneLineFormatter("%(levelname)s %(message)s").format(record)
    assert "\n" not in line
    assert line.startswith("ERROR failed here")
    assert "ValueError: boom" in line


def test_secret_values_are_scrubbed_from_messages_and_arguments():
    record = make_record("connecting with %s", "tok-abcdef-123")
    assert RedactSecrets(["tok-abcdef-123"]).filter(record)
    assert record.getMessage() == "connecting with ********"
