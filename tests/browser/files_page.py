"""Driving the file browser page in tests: its rows, each item's menu, the new-folder dialog."""

import re

from playwright.sync_api import expect


def row(page, name: str):
    """The listing row whose name is exactly ``name``."""
    return page.locator("[data-testid=item-row]").filter(
        has=page.locator(".item-name", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def open_menu(page, name: str):
    """Open the menu of the item ``name`` with its "⋯" button; the menu's locator."""
    row(page, name).get_by_role("button", name=f"Actions for “{name}”").click()
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    return menu


def menu_click(page, name: str, entry: str) -> None:
    """Choose ``entry`` ("Rename…", "Move…", "Versions…", "Share…", "Download", "Move to trash"…) in the menu of
    the item ``name``."""
    open_menu(page, name).get_by_role("menuitem", name=entry, exact=True).click()


def menu_entries(page, name: str) -> list[str]:
    """The entries the item's menu offers (the menu is closed again)."""
    menu = open_menu(page, name)
    entries = [text.strip() for text in menu.get_by_role("menuitem").all_inner_texts()]
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    return entries


def download_href(page, name: str) -> str:
    """The download address of the file ``name`` (from its menu, closed again)."""
    menu = open_menu(page, name)
    href = menu.get_by_role("menuitem", name="Download", exact=True).get_attribute("href")
    page.keyboard.press("Escape")
    return href


def new_folder(page, name: str) -> None:
    """Create a folder in the current folder with the toolbar's "New folder" dialog."""
    page.get_by_role("button", name="New folder", exact=True).click()
    page.fill("#new-folder-name", name)
    page.locator("#new-folder-dialog").get_by_role("button", name="Create folder").click()
