import reflex as rx

import models  # noqa: F401  (registers every table for migrations)


def index() -> rx.Component:
    return rx.el.main(rx.heading("Hello"))


app = rx.App()
app.add_page(index, route="/")
