import csv, os
C='/work/shared/corpus'; D='/work/data/real_src'
n=0
for r in csv.DictReader(open(C+'/manifest.csv')):
    if r['label']!='bonafide': continue
    d=os.path.join(D, r['source_repo'].replace('/','__')); os.makedirs(d, exist_ok=True)
    l=os.path.join(d, os.path.basename(r['path']))
    assert not os.path.lexists(l), l
    os.symlink(os.path.join(C, r['path']), l); n+=1
print(n)
