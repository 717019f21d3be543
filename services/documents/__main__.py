from services.documents.app import build_service

build_service().run()
