"""Make a PDF/X-4 file from a PDF that WeasyPrint wrote, without laying anything out again.

PDF/X-4 (ISO 15930-7) asks for: an output intent of subtype GTS_PDFX whose DestOutputProfile
is an embedded ICC output ("prtr") profile; the version in the XMP metadata
(pdfxid:GTS_PDFXVersion) and, here also, in the Info dictionary; Trapped set to True or False;
a TrimBox (and a BleedBox inside the MediaBox) on every page; no annotations inside the trim
other than printer's marks, no JavaScript, no embedded files; a PDF version of at most 1.6.
Device RGB is allowed only when it is mapped to an ICC space, which DefaultRGB does.

WeasyPrint's own `pdf/x-4` variant takes the same approach (GTS_PDFX output intent, the
pdfxid key in XMP, version 1.6) but writes an output intent only when the style sheet names a
CMYK profile, and ships just sRGB2014.icc, which is a display ("mntr") profile. So the output
intent here is a CMYK printer profile built from the public CGATS TR 006 (GRACoL coated)
characterisation data (see icc/README.md), and WeasyPrint's sRGB2014.icc is the DefaultRGB
space that says what the book's RGB colours mean.
"""

from __future__ import annotations

import io
import uuid
from importlib.resources import files

import pikepdf
from pikepdf import Array, Dictionary, Name, String

PDFX_VERSION = "PDF/X-4"
OUTPUT_PROFILE = "icc/CGATS-TR006-coated.icc"
# A characterised printing condition registered with the ICC (www.color.org), as PDF/X names it.
OUTPUT_CONDITION = "CGATS TR 006"
OUTPUT_CONDITION_INFO = "GRACoL coated (ANSI CGATS/GRACoL TR 006-2007)"
REGISTRY = "http://www.color.org"
# Catalog entries a printer's file must not carry: tags whose links are gone, forms, actions.
DROPPED_CATALOG = ("/StructTreeRoot", "/MarkInfo", "/AcroForm", "/AA", "/AF", "/OutputIntents")
DROPPED_PAGE = ("/Annots", "/StructParents", "/Tabs", "/AA")


def output_profile() -> bytes:
    """The CMYK printer profile of the output intent."""
    return (files("quire.press") / OUTPUT_PROFILE).read_bytes()


def srgb_profile() -> bytes:
    """WeasyPrint's sRGB profile, which gives the book's RGB colours their meaning."""
    return (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()


def to_pdfx4(data: bytes, identifier: str, inside_bleed: float | None = None) -> bytes:
    """The same pages as PDF/X-4; `inside_bleed` cuts that much bleed off each spine edge."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        _drop_interactive(pdf)
        srgb = pdf.make_stream(srgb_profile(), N=3)
        icc_rgb = Array([Name.ICCBased, srgb])
        _map_device_rgb(pdf, icc_rgb)
        for index, page in enumerate(pdf.pages):
            _set_boxes(page.obj, index, inside_bleed)
        pdf.Root.OutputIntents = Array([_output_intent(pdf)])
        _identify(pdf, identifier)
        out = io.BytesIO()
        pdf.save(out, force_version="1.6", deterministic_id=True)
        return out.getvalue()


def _drop_interactive(pdf: pikepdf.Pdf) -> None:
    """Links, the tag tree that points at them, forms, scripts and attachments."""
    for key in DROPPED_CATALOG:
        if key in pdf.Root:
            del pdf.Root[key]
    names = pdf.Root.get("/Names")
    if names is not None:
        for key in ("/EmbeddedFiles", "/JavaScript"):
            if key in names:
                del names[key]
    for page in pdf.pages:
        for key in DROPPED_PAGE:
            if key in page.obj:
                del page.obj[key]


def _map_device_rgb(pdf: pikepdf.Pdf, icc_rgb: Array) -> None:
    """Give every use of DeviceRGB the sRGB profile: DefaultRGB in each resource dictionary,
    and the ICC space itself on RGB images and transparency groups."""
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            continue
        resources = obj.get("/Resources")
        if isinstance(resources, pikepdf.Dictionary):
            spaces = resources.get("/ColorSpace")
            if spaces is None:
                resources.ColorSpace = spaces = Dictionary()
            spaces.DefaultRGB = icc_rgb
        if obj.get("/Subtype") == Name.Image and obj.get("/ColorSpace") == Name.DeviceRGB:
            obj.ColorSpace = icc_rgb
        group = obj.get("/Group")
        if isinstance(group, pikepdf.Dictionary) and group.get("/CS") == Name.DeviceRGB:
            group.CS = icc_rgb


def _set_boxes(page: pikepdf.Dictionary, index: int, inside_bleed: float | None) -> None:
    """TrimBox and BleedBox on the page; bleed taken off the spine edge when asked."""
    media = [float(v) for v in page.MediaBox]
    trim = [float(v) for v in page.get("/TrimBox", page.MediaBox)]
    if inside_bleed:
        cut = inside_bleed * 72
        recto = index % 2 == 0  # page 1 is a right-hand page: its spine edge is on the left
        if recto:
            media[0] = min(media[0] + cut, trim[0])
        else:
            media[2] = max(media[2] - cut, trim[2])
    page.MediaBox = Array(media)
    page.BleedBox = Array(media)
    page.TrimBox = Array(trim)
    if "/CropBox" in page:
        del page["/CropBox"]


def _output_intent(pdf: pikepdf.Pdf) -> Dictionary:
    """The GTS_PDFX output intent with the embedded CMYK printer profile."""
    profile = pdf.make_stream(output_profile(), N=4)
    return pdf.make_indirect(
        Dictionary(
            Type=Name.OutputIntent,
            S=Name.GTS_PDFX,
            OutputConditionIdentifier=String(OUTPUT_CONDITION),
            OutputCondition=String(OUTPUT_CONDITION_INFO),
            RegistryName=String(REGISTRY),
            Info=String(OUTPUT_CONDITION_INFO),
            DestOutputProfile=profile,
        )
    )


def _identify(pdf: pikepdf.Pdf, identifier: str) -> None:
    """The PDF/X version and Trapped key in Info and XMP; the reading edition's claims removed."""
    pdf.docinfo["/GTS_PDFXVersion"] = String(PDFX_VERSION)
    pdf.docinfo["/Trapped"] = Name("/False")
    created = _xmp_date(str(pdf.docinfo.get("/CreationDate", "D:20000101000000Z")))
    modified = _xmp_date(str(pdf.docinfo.get("/ModDate", "D:20000101000000Z")))
    document = uuid.uuid5(uuid.NAMESPACE_URL, f"quire:{identifier}:{PDFX_VERSION}")
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        for key in ("pdfuaid:part", "pdfaid:part", "pdfaid:conformance", "pdfaid:rev"):
            if key in meta:
                del meta[key]
        meta["pdfxid:GTS_PDFXVersion"] = PDFX_VERSION
        meta["pdf:Trapped"] = "False"
        meta["xmp:CreateDate"] = created
        meta["xmp:ModifyDate"] = modified
        meta["xmp:MetadataDate"] = modified
        meta["xmpMM:DocumentID"] = f"uuid:{document}"
        meta["xmpMM:VersionID"] = "1"
        meta["xmpMM:RenditionClass"] = "default"


def _xmp_date(pdf_date: str) -> str:
    """A PDF date (D:YYYYMMDDHHmmSSZ) as an XMP date (YYYY-MM-DDTHH:mm:SSZ)."""
    digits = pdf_date.removeprefix("D:")[:14].ljust(14, "0")
    d = digits
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}Z"
