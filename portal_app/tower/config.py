"""Tower: configuration, branding. The product name, the accent colour (refused below 4.5:1 against white, with
the ratio and a passing shade) and the logo (PNG or JPEG, checked from its bytes) shown in the portal's and the
tower's headers. Administrators only (``services/config/branding.py``)."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.document_upload import file_dropzone
from portal_app.components.layout import area_page
from portal_app.components.ui import MUTED_TEXT, primary_button, secondary_button
from portal_app.components.work_queue import checked_input, stacked_form
from portal_app.edge.body_limit import logo_form, upload_form_limit
from portal_app.services.config import branding
from portal_app.tower.config_base import ConfigMixin, config_page, form_text
from portal_app.ui import routes
from portal_app.ui.session import SessionState, page_event, run_db

LOGO_UPLOAD = "brand-logo"
ROUTE = routes.TOWER_CONFIG


class ConfigBrandingState(ConfigMixin, SessionState):
    current_name: str = ""
    current_accent: str = ""
    contrast: str = ""
    has_logo: bool = False

    async def _read(self) -> None:
        brand = await run_db(branding.current)
        self.current_name, self.current_accent = brand.product_name, brand.accent_color
        self.contrast = f"{brand.contrast:.2f}:1"
        self.has_logo = brand.logo_url != ""
        self._show(brand_name=brand.product_name, brand_accent=brand.accent_color, brand_logo=brand.logo_url)

    @page_event("tower")
    async def load(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        self.notice, self.error, self.field_errors = "", "", {}
        await self._read()

    @page_event("tower")
    async def save(self, principal: Principal, form: dict) -> None:
        if not self._may_configure(principal):
            return
        name, accent = form_text(form, "product_name", 80), form_text(form, "accent_color", 20)
        done = await self._save(principal, branding.save_branding, product_name=name, accent_color=accent,
                                done=f"Branding saved: {name}, accent {accent}. The headers show it now.")
        if done is not None:
            branding.forget_cache()
            await self._read()

    @page_event("tower", upload=True)
    @upload_form_limit(logo_form)
    async def upload_logo(self, principal: Principal, files: list[rx.UploadFile]) -> Any:
        if not self._may_configure(principal):
            return None
        if len(files) != 1:
            self.notice, self.error = "", "Choose one PNG or JPEG file first. Nothing was saved."
            return None
        data = await asyncio.to_thread(files[0].file.read, branding.MAX_LOGO_BYTES + 1)
        done = await self._save(principal, branding.save_branding, product_name=self.current_name,
                                accent_color=self.current_accent, logo=data, done="Logo saved; the headers show it.")
        if done is not None:
            branding.forget_cache()
            await self._read()
        return rx.clear_selected_files(LOGO_UPLOAD)

    @page_event("tower")
    async def logo_rejected(self, principal: Principal, _rejected: list[dict]) -> Any:
        if not self._may_configure(principal):
            return None
        self.notice, self.error = "", (f"That file cannot be used: choose one PNG or JPEG image of at most "
                                       f"{branding.MAX_LOGO_BYTES // 1024} KB. Nothing was saved.")
        return rx.clear_selected_files(LOGO_UPLOAD)

    @page_event("tower")
    async def remove_logo(self, principal: Principal) -> None:
        if not self._may_configure(principal):
            return
        done = await self._save(principal, branding.save_branding, product_name=self.current_name,
                                accent_color=self.current_accent, remove_logo=True, done="Logo removed.")
        if done is not None:
            branding.forget_cache()
            await self._read()


S = ConfigBrandingState


@area_page("tower", ROUTE, "Configuration", S.load)
def config_branding() -> rx.Component:
    return config_page(
        S, ROUTE, "Configuration",
        "Administrators set up the installation here without code. Every change is recorded in the audit log "
        "with its before and after values.",
        rx.card(
            rx.vstack(
                rx.heading("Branding", size="5", as_="h2"),
                rx.text("Shown in the headers of the customer portal and the ops tower. The accent colour needs a "
                        "contrast of at least 4.5:1 against white (WCAG AA); the current one has ", S.contrast, ".",
                        color=MUTED_TEXT),
                stacked_form(
                    checked_input("Product name", "product_name", S.field_errors, default_value=S.current_name,
                                  input_id="brand-product-name"),
                    checked_input("Accent colour", "accent_color", S.field_errors, default_value=S.current_accent,
                                  input_id="brand-accent", hint="As #rrggbb, e.g. #0b5cad"),
                    primary_button("Save branding", type="submit"),
                    on_submit=S.save, label="Branding", key=S.form_key,
                ),
                rx.heading("Logo", size="4", as_="h3"),
                file_dropzone("Logo file (PNG or JPEG)", LOGO_UPLOAD,
                              f"At most {branding.MAX_LOGO_BYTES // 1024} KB; about 200 × 60 pixels suits the header.",
                              branding.MAX_LOGO_BYTES, S.logo_rejected,
                              accept={"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"]}),
                rx.hstack(
                    primary_button("Upload logo", on_click=S.upload_logo(rx.upload_files(upload_id=LOGO_UPLOAD))),
                    rx.cond(S.has_logo, secondary_button("Remove logo", on_click=S.remove_logo), rx.fragment()),
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
    )
