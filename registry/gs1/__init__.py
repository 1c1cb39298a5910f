"""GS1 Digital Link: the registry's label URIs (digital_link) and the decompression of
compressed URIs other software printed (compression). No Flask, no database."""
