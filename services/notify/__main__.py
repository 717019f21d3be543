from services.notify.app import build_service

build_service().run()
