from services.cases.app import build_service

build_service().run()
