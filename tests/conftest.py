pytest_plugins = [
    "tests.fixtures.stores",
    "tests.fixtures.capabilities",
    "tests.fixtures.app",
    "tests.fixtures.auth",
    "tests.fixtures.servers",
    "tests.fixtures.catalog",
    "tests.fixtures.search",
    "tests.fixtures.listeners",
]
