# tests/fuzz/build.mk - the stage files a fuzz target compiles in besides
# libmoat.a: pure parsers that live in a stage directory (stages are not in
# the library, and the parser is not moved out for the fuzzer's sake).
FUZZ_SRCS_fuzz_smtpd_cmd := daemons/smtpd/smtpd_cmd.c
FUZZ_SRCS_fuzz_smtpd_data := daemons/smtpd/smtpd_data.c
FUZZ_SRCS_fuzz_cleanup := daemons/cleanup/cleanup_msg.c daemons/cleanup/cleanup_hdr.c \
	daemons/cleanup/cleanup_mime.c daemons/cleanup/cleanup_addr.c daemons/cleanup/cleanup_check.c \
	daemons/cleanup/cleanup_body.c daemons/cleanup/cleanup_virtual.c daemons/cleanup/cleanup_action.c \
	daemons/cleanup/cleanup_bcc.c daemons/cleanup/cleanup_canon.c daemons/cleanup/cleanup_canon_hdr.c \
	daemons/cleanup/cleanup_masq.c
FUZZ_SRCS_fuzz_cleanup_mime := daemons/cleanup/cleanup_mime.c
