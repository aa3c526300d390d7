from posada_pms.main import main

main()
