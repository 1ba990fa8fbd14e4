"""Traditional Chinese dates as Hong Kong writes them ("2026年12月2日 09:00"), 24-hour times;
typed dates and times are ISO (2026-12-02 09:00), the same in both languages."""

# The week, typed input and numbers are the same in both languages: the English module's,
# which Django reads here as this module's own names.
from formulary.formats.en.formats import (  # noqa: F401
    DATE_INPUT_FORMATS,
    DATETIME_INPUT_FORMATS,
    DECIMAL_SEPARATOR,
    FIRST_DAY_OF_WEEK,
    NUMBER_GROUPING,
    THOUSAND_SEPARATOR,
    TIME_INPUT_FORMATS,
)

DATE_FORMAT = "Y年n月j日"
SHORT_DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATETIME_FORMAT = "Y年n月j日 H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "n月j日"
YEAR_MONTH_FORMAT = "Y年n月"
