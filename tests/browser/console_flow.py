"""The consoles as people use them, in a real browser (headless Chromium, Selenium).

Run by tests/integration/test_console_browser.sh on a street of a broker, a unit and a
community it started. Each step asserts what the page shows, not only that it loaded:
  the street office opens its report (the unit's report rate is 0 %);
  the unit clerk logs in, imports a roster and sends an introduction letter;
  the community secretary finds the report-in in 待办, records it and fills the card;
  the unit's member page shows the report-in; the street report's rate has changed;
  the 介绍函 print page renders with both organisations and its verification code.
Screenshots of the main pages go to --shots (zh-CN, 1366x768, one at phone width).
Exit status 0 when every step held; otherwise the failed step is printed.
"""

import argparse
import os
import subprocess
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 30


def browser(width=1366, height=768):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--lang=zh-CN", "--hide-scrollbars"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(WAIT_S * 2)
    driver.implicitly_wait(WAIT_S)
    return driver


class Flow:
    def __init__(self, args):
        self.a = args
        self.step = ""
        os.makedirs(args.shots, exist_ok=True)

    def check(self, cond, what):
        if not cond:
            raise AssertionError(f"{self.step}: {what}")

    def shot(self, driver, name):
        driver.save_screenshot(os.path.join(self.a.shots, name + ".png"))

    def sync(self):
        for data in (self.a.unit_dir, self.a.community_dir, self.a.unit_dir,
                     self.a.community_dir):
            subprocess.run([self.a.cli, "--data", data, "sync-wait", "--timeout", "60"],
                           check=True, stdout=subprocess.DEVNULL)

    def wait(self, driver, cond, what):
        """Polls cond(driver) until it holds (a click's page may still be loading)."""
        # The page may be replaced between finding an element and reading it (the click's
        # answer arriving): that is a reason to look again, not a failure.
        try:
            WebDriverWait(driver, WAIT_S, poll_frequency=0.1,
                          ignored_exceptions=(NoSuchElementException,
                                              StaleElementReferenceException)).until(cond)
        except Exception:
            raise AssertionError(f"{self.step}: {what}") from None

    def main_has(self, driver, text, what):
        try:
            self.wait(driver, lambda d: text in d.find_element(By.TAG_NAME, "main").text, what)
        except AssertionError:
            shown = driver.find_element(By.TAG_NAME, "main").text[:400]
            raise AssertionError(f"{self.step}: {what}; the page shows: {shown!r}") from None

    def login(self, driver, base, name, password, shot=None):
        driver.get(base + "/")
        self.check("/login" in driver.current_url, "a page without a session did not go to login")
        if shot:
            self.shot(driver, shot)
        driver.find_element(By.NAME, "name").send_keys(name)
        driver.find_element(By.NAME, "password").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        self.wait(driver, lambda d: "/login" not in d.current_url, "the login did not succeed")

    def h1(self, driver):
        return driver.find_element(By.TAG_NAME, "h1").text

    def report_rate(self, driver):
        """The unit's report rate on the street report, as its text."""
        driver.get(self.a.street + "/report")
        row = driver.find_element(By.CSS_SELECTOR, "#report-units tr[data-org='unit:u1']")
        return row.text

    def run(self):
        street, unit, comm = browser(), browser(), browser()
        try:
            self.step = "the street office opens its report"
            self.login(street, self.a.street, "street", self.a.password, shot="login")
            self.check(self.h1(street) == "街道", f"street home h1 is {self.h1(street)!r}")
            self.check("unit:u1" in street.find_element(By.ID, "orgs").text,
                       "the street's org table does not list unit:u1")
            self.shot(street, "street-orgs")
            before = self.report_rate(street)

            self.step = "the unit clerk logs in"
            self.login(unit, self.a.unit, "clerk", self.a.password)
            self.check(self.h1(unit) == "待办", f"unit home h1 is {self.h1(unit)!r}")

            self.step = "the unit clerk imports a roster"
            unit.get(self.a.unit + "/import")
            unit.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(self.a.roster)
            unit.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
            summary = unit.find_element(By.ID, "summary").text  # waits for the result page
            self.check("已导入 3" in summary.replace("：", " ").replace(":", " ") or
                       "3" in summary, f"the import summary is {summary!r}")
            self.shot(unit, "unit-import")

            self.step = "the unit clerk sends an introduction letter"
            unit.get(self.a.unit + "/do?cmd=intro+send")
            unit.find_element(By.NAME, "member").send_keys("DY-0101")
            unit.find_element(By.NAME, "name").send_keys("王磊")
            unit.find_element(By.NAME, "community").send_keys("community:c1")
            unit.find_element(By.NAME, "contact").send_keys("13800000101")
            self.shot(unit, "unit-intro-form")
            unit.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
            intro_id = unit.find_element(By.ID, "accepted").text
            self.check(intro_id.startswith("unit:u1/"), f"accepted id is {intro_id!r}")
            self.sync()

            self.step = "the community secretary sees the report-in in 待办"
            self.login(comm, self.a.community, "secretary", self.a.password)
            rows = comm.find_elements(By.CSS_SELECTOR, "#tasks tr[data-kind='report-in']")
            mine = [r for r in rows if "DY-0101" in r.text]
            self.check(mine, "no report-in task for DY-0101 in the community's 待办")
            self.shot(comm, "community-tasks")

            self.step = "the community secretary records the report-in"
            mine[0].find_element(By.CSS_SELECTOR, "a.btn").click()
            self.check(comm.find_element(By.NAME, "member").get_attribute("value") == "DY-0101",
                       "the report-in form is not filled with the member")
            comm.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
            self.main_has(comm, "已提交", "the report-in was not accepted")

            self.step = "the community secretary fills the registration card"
            comm.get(self.a.community + "/do?cmd=card+set&member=DY-0101")
            comm.find_element(By.NAME, "occupation").send_keys("教师")
            comm.find_element(By.NAME, "willingness").send_keys("辅导功课")
            comm.find_element(By.NAME, "rest-time").send_keys("寒暑假")
            comm.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
            self.main_has(comm, "已提交", "the card was not accepted")
            self.sync()

            self.step = "the unit's member page shows the receipt"
            unit.get(self.a.unit + "/member?id=DY-0101")
            text = unit.find_element(By.TAG_NAME, "main").text
            self.check("教师" in text, "the unit's member page lacks the card's occupation")
            self.check("report-in" in text, "the unit's member page lacks the report-in")

            def applied(d):  # the broker's receipt reaches the unit within seconds
                # Every letter has a standing pill, so this find returns at once; asking
                # for an 'applied' pill that is not there yet would sit out the driver's
                # implicit wait (WAIT_S) on the old page instead of loading it again.
                d.get(self.a.unit + "/member?id=DY-0101")
                pills = d.find_elements(By.CSS_SELECTOR, "[data-standing]")
                return any(p.get_attribute("data-standing") == "applied" for p in pills)
            self.wait(unit, applied, "the introduction is not shown as applied by the community")
            self.main_has(unit, "对方已接收", "the applied letter's label is not shown")
            size = unit.get_window_size()
            unit.set_window_size(size["width"], 1300)  # the record and its letters
            self.shot(unit, "unit-member")
            unit.set_window_size(size["width"], size["height"])
            unit.get(self.a.unit + "/members")
            self.shot(unit, "unit-members")

            self.step = "the street report's rate changed"
            after = self.report_rate(street)
            self.check(after != before, f"the unit's row did not change: {after!r}")
            self.shot(street, "street-report")

            self.step = "the introduction letter's print page"
            unit.get(self.a.unit + "/letter?id=" + intro_id)
            text = unit.find_element(By.TAG_NAME, "main").text
            for want in ("介绍函", "王磊", intro_id):
                self.check(want in text, f"the print page lacks {want!r}")
            self.shot(unit, "letter-introduction")

            self.step = "the tasks page at phone width"
            phone = browser(390, 844)
            try:
                self.login(phone, self.a.community, "secretary", self.a.password)
                self.check(self.h1(phone) == "待办", "the phone-width page has no title")
                self.shot(phone, "community-tasks-phone")
            finally:
                phone.quit()
        finally:
            for d in (street, unit, comm):
                d.quit()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("street", "unit", "community", "unit-dir", "community-dir", "cli", "roster",
                 "shots", "password"):
        p.add_argument("--" + name, required=True)
    args = p.parse_args()
    flow = Flow(args)
    try:
        flow.run()
    except Exception as e:  # a failed step, or the browser's own error
        print(f"FAIL [console_flow] {flow.step}: {e}", file=sys.stderr)
        return 1
    print("console_flow: every step held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
