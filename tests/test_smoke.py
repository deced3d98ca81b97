from tests.conftest import WalletApp


def test_upload_list_download_roundtrip(any_store_app: WalletApp, tmp_path) -> None:
    vault = any_store_app.new_vault()
    source = tmp_path / "payslip.pdf"
    source.write_bytes(b"%PDF-1.4 payslip " * 1000)
    document_id, version = vault.upload(
        source, "payslip", "Payslip March", expiry_date="2027-03-31"
    )
    assert version == 1
    listed = vault.list_documents()
    assert [(d.id, d.title, d.type) for d in listed] == [(document_id, "Payslip March", "payslip")]
    target = tmp_path / "out.pdf"
    vault.download(document_id, target)
    assert target.read_bytes() == source.read_bytes()
