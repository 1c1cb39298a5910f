"""What one label shows, the fixed texts every label carries, and the renderer's error."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COUNTRY_TEXT", "MARK_TEXT", "SPECIMEN_TEXT", "LabelData", "RenderError"]

MARK_TEXT = "Made in Bali–NTB–NTT"
# The country-of-origin statement importing countries ask for. Like every fixed text on the
# physical label (the mark, "Lot", "Net", "Best before") it is in English, whatever the
# language of whoever ordered or prints it: the label travels, the reader is abroad.
COUNTRY_TEXT = "Product of Indonesia"
# Overprinted on every proof and preview label (English and Indonesian), never on a job's.
SPECIMEN_TEXT = "SPECIMEN / CONTOH"


class RenderError(ValueError):
    """A label cannot be drawn on the chosen stock (e.g. a URI too long for its QR box)."""


@dataclass(frozen=True, slots=True)
class LabelData:
    """What one label shows. Everything but ``serial`` and ``qr_uri`` is usually per batch."""

    product_name: str
    origin_regency: str
    origin_province: str
    producer: str
    lot: str
    net_quantity: str
    best_before: str | None
    serial: str
    short_host: str
    qr_uri: str
    mark: str = MARK_TEXT
    exporter: str = ""  # the exporting company, on stocks with an ``exporter`` element
    country: str = COUNTRY_TEXT

    def text_for(self, element: str) -> str | None:
        match element:
            case "mark":
                return self.mark
            case "country":
                return self.country
            case "exporter":
                return self.exporter
            case "product":
                return self.product_name
            case "origin":
                return ", ".join(p for p in (self.origin_regency, self.origin_province) if p)
            case "producer":
                return self.producer
            case "lot":
                return self.lot
            case "quantity":
                return self.net_quantity
            case "best_before":
                return self.best_before
            case "serial":
                return self.serial
            case "host":
                return self.short_host
        raise KeyError(element)

    def static_key(self) -> tuple[object, ...]:
        return (
            self.mark, self.product_name, self.origin_regency, self.origin_province,
            self.producer, self.lot, self.net_quantity, self.best_before, self.short_host,
            self.exporter, self.country,
        )
