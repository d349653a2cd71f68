"""Give an account List Contents + Read Property on CN=Deleted Objects of a Samba AD domain.

Run as root on the DC host with Samba's python (/usr/bin/python3):
    grant-deleted-objects.py <smb.conf> <sam.ldb url> <domain DN> <account SID>
Without it Samba hides tombstones from DirSync for a least-privilege sync account, and the
reader never sees deletions (Windows AD shows them with "Replicating Directory Changes" alone).
samba-tool dsacl cannot do it: the container is only reachable with the show_deleted control.
"""
import re
import sys

import ldb
from samba.auth import system_session
from samba.dcerpc import security
from samba.ndr import ndr_pack, ndr_unpack
from samba.param import LoadParm
from samba.samdb import SamDB

conf, url, base, sid = sys.argv[1:5]
lp = LoadParm()
lp.load(conf)
db = SamDB(url=url, session_info=system_session(), lp=lp)
dn = "CN=Deleted Objects," + base
controls = ["show_deleted:1", "sd_flags:1:4"]
res = db.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["nTSecurityDescriptor"], controls=controls)
sddl = ndr_unpack(security.descriptor, res[0]["nTSecurityDescriptor"][0]).as_sddl()
ace = "(A;;LCRP;;;%s)" % sid
if ace not in sddl and ("(A;;RPLC;;;%s)" % sid) not in sddl:
    new_sddl = re.sub(r"(D:[A-Z]*)", lambda m: m.group(1) + ace, sddl, count=1)
    sd = security.descriptor.from_sddl(new_sddl, security.dom_sid(db.get_domain_sid()))
    m = ldb.Message()
    m.dn = ldb.Dn(db, dn)
    m["nTSecurityDescriptor"] = ldb.MessageElement(ndr_pack(sd), ldb.FLAG_MOD_REPLACE, "nTSecurityDescriptor")
    db.modify(m, controls=controls)
    print("granted")
else:
    print("already granted")
