"""The hosted invoice page and invoice PDF that `hosted_invoice_url` and `invoice_pdf` point to:
/_local/invoices/<id>/<token>[/pdf]. The token is set when the invoice is finalized, so an
invoice id alone does not open its page."""

from __future__ import annotations

import hmac
import html
from typing import Any

from stripe_local import core
from stripe_local.app.pages import PAGE_STYLE
from stripe_local.app.registry import LocalReply, html_reply, local_helper
from stripe_local.app.state import State


@local_helper("invoices")
def invoice_page_helper(
    state: State, method: str, parts: list[str], params: dict[str, Any]
) -> LocalReply | None:
    if method != "GET" or len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "pdf"):
        return None
    with state.lock:
        invoice = state.store.find(parts[1])
        token = invoice.internal.get("page_token", "") if invoice else ""
        if invoice is None or invoice.kind != "invoice" or not token:
            return html_reply((404, {}, "<h1>No such invoice</h1>"))
        if not hmac.compare_digest(token, parts[2]):
            return html_reply((404, {}, "<h1>No such invoice</h1>"))
        d = invoice.data
        lines = [state.store.records[i].data for i in invoice.internal.get("lines", [])]
    rows = [
        (line["description"] or "", core.format_amount(line["amount"], d["currency"]))
        for line in lines
    ]
    total = core.format_amount(d["total"], d["currency"])
    due = core.format_amount(d["amount_remaining"], d["currency"])
    # Who is billed, as Stripe prints it: the customer's name and tax ids (a VAT number).
    billed = [f"Billed to: {d['customer_name']}"] if d.get("customer_name") else []
    billed += [
        f"{'VAT' if t['type'].endswith('_vat') else t['type']}: {t['value']}"
        for t in d.get("customer_tax_ids") or []
    ]
    if len(parts) == 4:
        text = [f"Invoice {d['number']}", f"Status: {d['status']}", *billed]
        text += [f"{label}: {amount}" for label, amount in rows]
        text += [f"Total: {total}", f"Amount remaining: {due}"]
        return LocalReply(
            200,
            _pdf(text),
            {"Content-Disposition": f'inline; filename="{d["number"]}.pdf"'},
            content_type="application/pdf",
        )
    body = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{html.escape(amount)}</td></tr>"
        for label, amount in rows
    )
    number = html.escape(d["number"] or "")
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Invoice {number}</title>
<style>{PAGE_STYLE}</style></head><body><h1>Invoice {number}</h1>
<p id="invoice-status">Status: {html.escape(d["status"])}</p>
{"".join(f'<p class="billed-to">{html.escape(line)}</p>' for line in billed)}
<table><tr><th>Description</th><th>Amount</th></tr>{body}</table>
<p>Total: <strong>{html.escape(total)}</strong>; amount remaining: {html.escape(due)}</p>
<p><a href="{html.escape(parts[2])}/pdf">Download PDF</a></p></body></html>"""
    return html_reply((200, {}, page))


def _pdf(lines: list[str]) -> bytes:
    """A one-page PDF with `lines` of text (Helvetica), built by hand."""

    def escape(text: str) -> str:
        ascii_text = text.encode("latin-1", "replace").decode("latin-1")
        return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 12 Tf 50 790 Td 16 TL " + " ".join(f"({escape(t)}) '" for t in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out
