from services.accounts.app import build_service

build_service().run()
