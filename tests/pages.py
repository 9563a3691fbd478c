"""Page objects for the browser tests: what a person does, in the site's own words."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Page, expect


@dataclass
class Forum:
    page: Page
    base_url: str

    def visit(self, path: str = "/") -> None:
        self.page.goto(self.base_url + path)

    def register(self, *, email: str, name: str, password: str) -> None:
        self.visit("/")
        self.page.get_by_role("link", name="Register").click()
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Display name").fill(name)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.page.get_by_label("Repeat password").fill(password)
        self.page.get_by_role("button", name="Create account").click()
        expect(self.page.get_by_role("heading", name="Edit profile")).to_be_visible()

    def log_in(self, *, email: str, password: str) -> None:
        self.page.get_by_role("link", name="Log in").first.click()
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()

    def open_user_menu(self) -> None:
        """The header's user menu (profile, settings, log out), if it is not open already."""
        menu = self.page.locator("details.user-menu")
        if menu.get_attribute("open") is None:
            menu.locator("summary").click()
        expect(menu).to_have_attribute("open", "")

    def log_out(self) -> None:
        self.open_user_menu()
        self.page.get_by_role("button", name="Log out").click()
        expect(self.page.get_by_role("link", name="Log in")).to_be_visible()

    def open_area(self, name: str) -> None:
        self.visit("/")
        self.page.get_by_role("link", name=name, exact=True).click()
        expect(self.page.get_by_role("heading", name=name, level=1)).to_be_visible()

    def open_topic(self, *, title: str, body: str, kind: str = "Question") -> TopicPage:
        self.page.get_by_role("link", name="New topic").click()
        self.page.get_by_label("Title").fill(title)
        self.page.get_by_label("Kind").select_option(label=kind)
        self.page.get_by_label("Body").fill(body)
        self.page.get_by_role("button", name="Post topic").click()
        expect(self.page.get_by_role("heading", name=title, level=1)).to_be_visible()
        return TopicPage(self.page)


@dataclass
class TopicPage:
    page: Page

    def post(self, text: str):
        return self.page.locator("article.post", has_text=text)

    def reply_to_topic(self, text: str) -> None:
        self.page.get_by_label("Your reply").fill(text)
        self.page.get_by_role("button", name="Post reply").click()
        expect(self.post(text)).to_be_visible()

    def reply_to_post(self, post_text: str, text: str) -> None:
        self.post(post_text).get_by_role("link", name="Reply").click()
        self.page.get_by_label("Your reply").fill(text)
        self.page.get_by_role("button", name="Post reply").click()
        expect(self.post(text)).to_be_visible()

    def depth_of(self, text: str) -> int:
        classes = self.post(text).get_attribute("class") or ""
        return next(int(c.split("-")[1]) for c in classes.split() if c.startswith("depth-"))

    def permalink_of(self, text: str) -> str:
        return self.post(text).locator("a.post-permalink").get_attribute("href") or ""


@dataclass
class ApplicationPage:
    """The "Apply to join" form."""

    page: Page

    def fill(self, **answers: str) -> None:
        for label, value in answers.items():
            self.page.get_by_label(label, exact=True).fill(value)

    def choose_disciplines(self, *names: str) -> None:
        for name in names:
            self.page.get_by_label(name, exact=True).check()

    def send(self) -> None:
        self.page.get_by_role("button", name="Send application").click()


@dataclass
class ReviewQueue:
    page: Page

    def open_application(self, name: str) -> None:
        self.page.get_by_role("link", name="Applications").click()
        self.page.get_by_role("link", name=name).click()
        expect(self.page.get_by_role("heading", name=name, level=1)).to_be_visible()

    def score(self, relevance: int, fit: int, breadth: int) -> None:
        self.page.get_by_text("Your scores").click()
        self.page.get_by_label("Relevance of AI experience (1-5)").fill(str(relevance))
        self.page.get_by_label("Fit with the privacy, safety and security focus (1-5)").fill(
            str(fit)
        )
        self.page.get_by_label("Contribution to the range of disciplines (1-5)").fill(str(breadth))
        self.page.get_by_role("button", name="Save scores").click()

    def approve(self) -> None:
        self.page.get_by_role("button", name="Approve and invite").click()
        expect(self.page.get_by_text("is approved and invited")).to_be_visible()


def select_text_in(page: Page, post_locator, text: str) -> None:
    """Select a phrase inside a post the way a reader drags over it."""
    post_locator.locator(".post-body").evaluate(
        """(body, phrase) => {
            const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
                const node = walker.currentNode;
                const at = node.textContent.indexOf(phrase);
                if (at >= 0) {
                    const range = document.createRange();
                    range.setStart(node, at);
                    range.setEnd(node, at + phrase.length);
                    const selection = window.getSelection();
                    selection.removeAllRanges();
                    selection.addRange(range);
                    document.dispatchEvent(new Event("selectionchange"));
                    return;
                }
            }
            throw new Error("phrase not found: " + phrase);
        }""",
        text,
    )
